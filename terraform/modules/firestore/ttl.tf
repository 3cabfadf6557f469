# TTL policies: Firestore deletes a document some time after the Timestamp in the named field.
# Only a field the code writes as a Firestore Timestamp is eligible (a string or a missing field
# is ignored): https://firebase.google.com/docs/firestore/ttl
# test/unit/terraform-firestore-ttl.test.ts scans functions/src for expiry fields and checks this
# map against them. Today the code writes none as a Timestamp: `apiKeys.expiresAt` is an ISO
# string the API compares itself, so a TTL policy on it would never fire.
locals {
  # collection group => field
  ttl_fields = {}
}

resource "google_firestore_field" "ttl" {
  for_each   = local.ttl_fields
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.key
  field      = each.value

  ttl_config {}
}
