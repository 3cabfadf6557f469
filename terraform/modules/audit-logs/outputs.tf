output "log_bucket" {
  description = "The audit log bucket's id."
  value       = google_logging_project_bucket_config.audit.id
}
