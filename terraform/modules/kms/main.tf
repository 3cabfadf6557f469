# Cloud KMS: the platform key ring (tenant KEKs, created by onboarding, and the evidence-sealing
# key) and a separate ring for the documents bucket's CMEK, so grants on the tenant ring never
# reach the storage key. Key rings and keys cannot be deleted in Cloud KMS; prevent_destroy keeps
# Terraform from trying (and from scheduling the destruction of key versions).

# KMS_KEY_RING: onboarding creates `tenant-<id>` KEKs here (crypto/kms.ts ensureSymmetricKey,
# 90-day rotation period set by the code).
resource "google_kms_key_ring" "platform" {
  project  = var.project_id
  name     = "provenant"
  location = var.location
}

# SEALING_KEY_VERSION: the platform's EC P-256 key that signs every seal and deletion certificate.
# Cloud KMS does not rotate asymmetric keys automatically (rotation_period applies to symmetric
# keys only: https://cloud.google.com/kms/docs/key-rotation#asymmetric); a new signing version is
# a deliberate change of SEALING_KEY_VERSION, and verifiers keep every version's public key.
resource "google_kms_crypto_key" "evidence_sealing" {
  name     = "evidence-sealing"
  key_ring = google_kms_key_ring.platform.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "EC_SIGN_P256_SHA256"
    protection_level = var.protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_key_ring" "storage" {
  project  = var.project_id
  name     = "provenant-storage"
  location = var.location
}

# Default key of the documents bucket (on top of the code's per-object envelope encryption).
resource "google_kms_crypto_key" "documents_bucket" {
  name            = "documents-bucket"
  key_ring        = google_kms_key_ring.storage.id
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

# Cloud Storage encrypts with the bucket's default key as its own service agent.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

# Reason: Cloud Storage's service agent wraps the documents bucket's object keys with this key;
# scoped to this one key.
resource "google_kms_crypto_key_iam_member" "gcs_documents_bucket" {
  crypto_key_id = google_kms_crypto_key.documents_bucket.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
