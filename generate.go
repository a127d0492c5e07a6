package main

// Code generation, in order: ent (with entgql, which writes graph/ent.graphql)
// first, then gqlgen. Run with `make generate`; `make check-generate` fails
// when the committed output is stale.
//go:generate sh -c "cd ent && go run -mod=mod entc.go"
//go:generate go tool gqlgen generate
