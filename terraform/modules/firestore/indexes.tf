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
