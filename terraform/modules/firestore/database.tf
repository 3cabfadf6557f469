# One Firestore database in native mode: the platform's `(default)`, or a dedicated tenant's own
# (modules/enterprise-tenant). Everything a database needs to serve the code lives in this module:
# the composite indexes its queries use (indexes.tf), TTL policies (ttl.tf) and the release of
# firestore.rules (rules.tf), so a dedicated database can never lag behind the default one.
resource "google_firestore_database" "this" {
  project     = var.project_id
  name        = var.database_id
  location_id = var.location_id
  type        = "FIRESTORE_NATIVE"
  # The code runs transactions that read before they write (create-only evidence, idempotency):
  # pessimistic locking is the server SDKs' documented default.
  concurrency_mode            = "PESSIMISTIC"
  app_engine_integration_mode = "DISABLED"
  # Seven days of point-in-time recovery: an operator's mistake or a bad release can be read back.
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  # The database holds the evidence ledger: deleting it must take two deliberate steps.
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  # `terraform destroy` leaves the database (and its data) in place rather than deleting it.
  deletion_policy = "ABANDON"

  dynamic "cmek_config" {
    for_each = var.cmek_key_name == null ? [] : [var.cmek_key_name]
    content {
      kms_key_name = cmek_config.value
    }
  }
}
