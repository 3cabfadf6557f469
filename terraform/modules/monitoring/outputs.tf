output "alert_policies" {
  description = "The alert policies' names."
  value = [
    google_monitoring_alert_policy.dead_letter_depth.name,
    google_monitoring_alert_policy.seal_lag.name,
    google_monitoring_alert_policy.seal_failures.name,
    google_monitoring_alert_policy.break_glass_grants.name,
    google_monitoring_alert_policy.kms_errors.name,
  ]
}
