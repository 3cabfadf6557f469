# A dedicated enterprise tenant: its own Firestore database (same indexes, TTL policies and rules
# as the platform's, through modules/firestore) encrypted with its own CMEK. Onboard the tenant
# with `databaseId` = the database_id output; the code then keeps all its data there
# (tenancy/firestore.ts Databases). Documents and evidence exports stay in the platform buckets,
# sealed per object under the tenant's KEK as for every tenant.

locals {
  database_id = "tenant-${var.tenant_id}"
}

resource "google_kms_key_ring" "tenant" {
  project  = var.project_id
  name     = "tenant-${var.tenant_id}"
  location = var.location
}

resource "google_kms_crypto_key" "database" {
  name            = "firestore"
  key_ring        = google_kms_key_ring.tenant.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "${var.rotation_days * 86400}s"

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = var.protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

data "google_project" "this" {
  project_id = var.project_id
}

# Reason: Firestore's service agent encrypts this tenant's database with the key; this key only.
resource "google_kms_crypto_key_iam_member" "firestore_agent" {
  crypto_key_id = google_kms_crypto_key.database.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-firestore.iam.gserviceaccount.com"
}

module "database" {
  source        = "../firestore"
  project_id    = var.project_id
  database_id   = local.database_id
  location_id   = var.location
  cmek_key_name = google_kms_crypto_key.database.id
  rules_file    = var.rules_file

  depends_on = [google_kms_crypto_key_iam_member.firestore_agent]
}

# Reason: every function that touches tenant data reads and writes this tenant's database;
# Firestore grants are project-level, so each is conditioned to this one database.
resource "google_project_iam_member" "functions" {
  for_each = var.function_service_accounts
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${each.value}"
  condition {
    title       = "tenant-${var.tenant_id}-database"
    description = "Only the dedicated database of tenant ${var.tenant_id}."
    expression  = "resource.name == \"${module.database.database_resource_name}\""
  }
}
