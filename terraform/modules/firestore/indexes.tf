# The composite indexes the code's queries need. test/unit/terraform-firestore-indexes.test.ts
# reads every query in functions/src and fails when one needs an index that is not here (or when
# an index here serves no query). Single-field indexes are automatic, and Firestore merges them
# for queries made of equality filters only, so those need nothing here:
# https://firebase.google.com/docs/firestore/query-data/index-overview
# Firestore appends `__name__` to every composite index in the direction of the last field, which
# serves the listing's `orderBy('__name__', 'desc')` tie-breaker.

# GET /v1/extractions?status=S[&createdAfter=T] (extraction/listing.ts): equality on status,
# newest first.
resource "google_firestore_index" "extractions_status_submitted_at" {
  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = "extractions"
  query_scope = "COLLECTION"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "submittedAt"
    order      = "DESCENDING"
  }
}

# The retention job's pass over one schema with its own content retention
# (lifecycle/retention.ts): equality on schema, submitted before the cutoff, oldest first.
resource "google_firestore_index" "extractions_schema_submitted_at" {
  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = "extractions"
  query_scope = "COLLECTION"

  fields {
    field_path = "schema"
    order      = "ASCENDING"
  }
  fields {
    field_path = "submittedAt"
    order      = "ASCENDING"
  }
}

# The sealer's window (ledger/sealer.ts recordsInWindow): a range on createdAt, ordered by
# createdAt then id.
resource "google_firestore_index" "evidence_created_at_id" {
  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = "evidence"
  query_scope = "COLLECTION"

  fields {
    field_path = "createdAt"
    order      = "ASCENDING"
  }
  fields {
    field_path = "id"
    order      = "ASCENDING"
  }
}

# GET /v1/access-transparency (access/transparency.ts): a tenant's content_access records,
# newest first.
resource "google_firestore_index" "evidence_kind_created_at" {
  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = "evidence"
  query_scope = "COLLECTION"

  fields {
    field_path = "kind"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

# Single-field index exemptions. Firestore indexes every field by default, and a collection whose
# documents carry a monotonically increasing indexed value (a commit time) is limited to about
# 500 writes/s per collection: https://firebase.google.com/docs/firestore/solutions/shard-timestamp
# Within a tenant's `extractions` every write stamps `updatedAt`, so its busiest tenant would be
# capped near 500 / 3 extractions/s (docs/scale.md works the numbers). No query reads these
# fields, so they need no index: test/unit/terraform-firestore.test.ts fails when a query starts
# to use one. What stays indexed and sequential is one write per extraction: `submittedAt`
# (listing order) and evidence `createdAt` (the sealer's windows). The TTL fields are exempted
# in ttl.tf, by the one field resource that also holds their TTL policy.
locals {
  unindexed_fields = {
    "extractions.createdAt"     = { collection = "extractions", field = "createdAt" }
    "extractions.updatedAt"     = { collection = "extractions", field = "updatedAt" }
    "dataKeys.createdAt"        = { collection = "dataKeys", field = "createdAt" }
    "documents.createdAt"       = { collection = "documents", field = "createdAt" }
    "idempotencyKeys.createdAt" = { collection = "idempotencyKeys", field = "createdAt" }
  }
}

resource "google_firestore_field" "unindexed" {
  for_each   = local.unindexed_fields
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.value.collection
  field      = each.value.field

  # An empty index_config removes the field's automatic single-field indexes.
  index_config {}
}
