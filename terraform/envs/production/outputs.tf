output "api_url" {
  description = "The public API's URL."
  value       = module.platform.api_url
}

output "ops_url" {
  description = "The operators' API URL (internal ingress)."
  value       = module.platform.ops_url
}

output "documents_bucket" {
  description = "DOCUMENTS_BUCKET."
  value       = module.platform.documents_bucket
}

output "audit_bucket" {
  description = "AUDIT_BUCKET (auditors: npx provenant audit verify gs://BUCKET/evidence)."
  value       = module.platform.audit_bucket
}

output "key_ring" {
  description = "KMS_KEY_RING, for the CLI's environment."
  value       = module.platform.key_ring
}

output "sealing_key_version" {
  description = "SEALING_KEY_VERSION, for the CLI's environment."
  value       = module.platform.sealing_key_version
}

output "function_service_accounts" {
  description = "Each function's service account."
  value       = module.platform.function_service_accounts
}

output "enterprise_tenant_databases" {
  description = "Each dedicated tenant's database id (onboard it with this databaseId)."
  value       = { for id, t in module.enterprise_tenant : id => t.database_id }
}
