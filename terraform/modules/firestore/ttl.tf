# TTL policies: Firestore deletes a document some time after the Timestamp in the named field.
# Only a field the code writes as a Firestore Timestamp is eligible (a string or a missing field
# is ignored): https://firebase.google.com/docs/firestore/ttl
# test/unit/terraform-firestore.test.ts scans functions/src for expiry fields and checks this
# map against them. `apiKeys.expiresAt` is an ISO string the API compares itself, so a TTL policy
# on it would never fire and there is none.
#
# `expireAt` on evidence records and seals (ledger/evidence-writer.ts, ledger/sealer.ts): the
# write time + the tenant's evidence retention (the platform's 7 years, or the tenant's longer
# choice) + a margin, so Firestore's copy outlives the Locked retention of the exported copy in
# the audit bucket (terraform/modules/storage/audit.tf). TTL deletion runs within about a day of
# the time, never before it. The field is exempt from indexing here, in the same resource (a
# field has one configuration, so a second google_firestore_field on it would fight this one):
# Firestore advises it for TTL fields, whose increasing values would otherwise hotspot an index.
locals {
  # collection group => field
  ttl_fields = {
    evidence = "expireAt"
    seals    = "expireAt"
  }
}

resource "google_firestore_field" "ttl" {
  for_each   = local.ttl_fields
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.key
  field      = each.value

  ttl_config {}
  # An empty index_config removes the field's automatic single-field indexes; nothing queries it.
  index_config {}
}
