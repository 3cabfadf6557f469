output "push_service_account" {
  description = "Email of the push account, the function's only invoker."
  value       = google_service_account.push.email
}

output "subscription" {
  description = "The push subscription's name."
  value       = google_pubsub_subscription.push.name
}
