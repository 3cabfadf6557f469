output "secret_ids" {
  description = "Secret ids (projects/P/secrets/S) by name."
  value       = { for name, s in google_secret_manager_secret.this : name => s.id }
}

output "secret_names" {
  description = "Secret short names by name, as secret_environment_variables want them."
  value       = { for name, s in google_secret_manager_secret.this : name => s.secret_id }
}
