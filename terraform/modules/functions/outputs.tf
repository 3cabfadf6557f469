output "api_url" {
  description = "The public API's URL."
  value       = google_cloudfunctions2_function.api.service_config[0].uri
}

output "ops_url" {
  description = "The operators' API URL (internal ingress)."
  value       = google_cloudfunctions2_function.ops.service_config[0].uri
}

output "service_accounts" {
  description = "Each function's service account email."
  value = {
    api                = google_service_account.api.email
    ops                = google_service_account.ops.email
    extract_worker     = google_service_account.extract_worker.email
    dead_letter_worker = google_service_account.dead_letter_worker.email
    notifier           = google_service_account.notifier.email
    sealer             = google_service_account.sealer.email
    retention          = google_service_account.retention.email
  }
}

output "push_service_accounts" {
  description = "Each push subscription's account, its function's only invoker."
  value = {
    extract_worker     = module.extract_worker_trigger.push_service_account
    dead_letter_worker = module.dead_letter_worker_trigger.push_service_account
    notifier           = module.notifier_trigger.push_service_account
    sealer             = module.sealer_trigger.push_service_account
    retention          = module.retention_trigger.push_service_account
  }
}
