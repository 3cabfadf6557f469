output "database_id" {
  description = "Pass as `databaseId` when onboarding the tenant."
  value       = module.database.database_id
}

output "database_key" {
  description = "The CMEK of the tenant's database."
  value       = google_kms_crypto_key.database.id
}
