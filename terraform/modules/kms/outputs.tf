output "key_ring" {
  description = "KMS_KEY_RING: projects/P/locations/L/keyRings/provenant."
  value       = google_kms_key_ring.platform.id
}

output "sealing_key" {
  description = "The evidence-sealing key."
  value       = google_kms_crypto_key.evidence_sealing.id
}

output "sealing_key_version" {
  description = "SEALING_KEY_VERSION: the sealing key's first version, as crypto/kms.ts ensureSigningKey names it."
  value       = "${google_kms_crypto_key.evidence_sealing.id}/cryptoKeyVersions/1"
}

output "documents_bucket_key" {
  description = "The documents bucket's default CMEK."
  value       = google_kms_crypto_key.documents_bucket.id
}


output "roles" {
  description = "Custom role ids, bound by the functions that need them."
  value = {
    tenant_key_creator   = google_project_iam_custom_role.tenant_key_creator.id
    key_ring_ensurer     = google_project_iam_custom_role.key_ring_ensurer.id
    tenant_key_lifecycle = google_project_iam_custom_role.tenant_key_lifecycle.id
  }
}
