// Package schema is Vitalgraph's data model: one ent schema per entity,
// with the mixins that give every user-owned row its user_id and privacy
// policy. Everything else in ent/ is generated from here (make generate).
package schema
