output "api_url" {
  description = "The public API's URL (what customers call)."
  value       = module.functions.api_url
}

output "ops_url" {
  description = "The operators' API URL (internal ingress)."
  value       = module.functions.ops_url
}

output "documents_bucket" {
  description = "DOCUMENTS_BUCKET."
  value       = module.storage.documents_bucket
}

output "audit_bucket" {
  description = "AUDIT_BUCKET: what `npx provenant audit verify gs://BUCKET/evidence` reads."
  value       = module.storage.audit_bucket
}

output "key_ring" {
  description = "KMS_KEY_RING."
  value       = module.kms.key_ring
}

output "sealing_key_version" {
  description = "SEALING_KEY_VERSION."
  value       = module.kms.sealing_key_version
}

output "function_service_accounts" {
  description = "Each function's service account (a customer-managed KEK must grant encrypt/decrypt to api, ops, extract_worker and notifier)."
  value       = module.functions.service_accounts
}

output "audit_log_bucket" {
  description = "The audit log bucket."
  value       = module.audit_logs.log_bucket
}
