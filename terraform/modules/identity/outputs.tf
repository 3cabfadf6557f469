output "identity_platform_config" {
  description = "The Identity Platform configuration's name."
  value       = google_identity_platform_config.this.name
}
