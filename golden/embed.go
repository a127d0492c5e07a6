package golden

import (
	"embed"
	"io/fs"
)

//go:embed testdata/*/*.json
var testdata embed.FS

// Cases is the embedded testdata folder: one sub-folder per scenario.
func Cases() fs.FS {
	sub, err := fs.Sub(testdata, "testdata")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// DemoCases are the scenarios `vitalgraph seed --demo` loads for the demo
// user: a clean experiment with its evaluation and narrative (G1) and a
// rapid swing with its anomalies (G4a).
var DemoCases = []string{"g1_clean", "g4a_swing"}
