output "database_id" {
  description = "The database's id, as the code's `databaseId` names it."
  value       = google_firestore_database.this.name
}

output "database_resource_name" {
  description = "projects/P/databases/D: what IAM conditions on this database compare resource.name with."
  value       = "projects/${var.project_id}/databases/${google_firestore_database.this.name}"
}
