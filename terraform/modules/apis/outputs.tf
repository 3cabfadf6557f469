output "services" {
  description = "The APIs enabled, for modules that must wait for them."
  value       = [for s in google_project_service.enabled : s.service]
}
