output "documents_bucket" {
  description = "DOCUMENTS_BUCKET."
  value       = google_storage_bucket.documents.name
}

output "audit_bucket" {
  description = "AUDIT_BUCKET."
  value       = google_storage_bucket.audit.name
}

output "sources_bucket" {
  description = "Bucket of the functions' source archives."
  value       = google_storage_bucket.sources.name
}

output "audit_exporter_role" {
  description = "Custom role for writing sealed exports."
  value       = google_project_iam_custom_role.audit_exporter.id
}
