# AUDIT_BUCKET: the sealed evidence export an auditor reads (`{seq}.jsonl` + `{seq}.seal.json`
# per tenant), written create-only with a Locked per-object retention by the sealer
# (ledger/sealer.ts). Two retention layers: each object's own Locked retention (object retention
# must be enabled at creation) and the bucket's retention policy, which also covers any object
# written without one. The policy becomes irreversible once locked (lock_audit_retention).
#
# No Object Versioning: Cloud Storage refuses versioning on a bucket with a retention policy
# (the two are mutually exclusive), and under the policy no object can be overwritten or deleted
# anyway, which is what versioning would have guarded against.
resource "google_storage_bucket" "audit" {
  project                     = var.project_id
  name                        = "${var.project_id}-audit"
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  enable_object_retention     = true

  retention_policy {
    retention_period = var.audit_retention_days * 86400
    is_locked        = var.lock_audit_retention
  }
}
