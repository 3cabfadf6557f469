# Alerts an operator must act on: dead letters piling up, the sealer falling behind or failing,
# break-glass grants, and Cloud KMS errors. Each goes to the notification channels below; each
# filter on a function log names an event of functions/src/logging.ts (a test checks they exist).

resource "google_monitoring_notification_channel" "email" {
  for_each     = toset(var.alert_emails)
  project      = var.project_id
  display_name = "Provenant on-call ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

locals {
  channels = [for c in google_monitoring_notification_channel.email : c.name]
}

resource "google_logging_metric" "seal_pass_completed" {
  project = var.project_id
  name    = "provenant/seal_pass_completed"
  filter  = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"seal_pass_completed\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_logging_metric" "seal_failed" {
  project = var.project_id
  name    = "provenant/seal_failed"
  filter  = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"seal_failed\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_logging_metric" "kek_rotation_failed" {
  project = var.project_id
  name    = "provenant/kek_rotation_failed"
  filter  = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"kek_rotation_failed\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

# Dead letters: extractions waiting on the dead-letter worker, and anything reaching a terminal
# dead-letter topic (a message no function could handle).
resource "google_monitoring_alert_policy" "dead_letter_depth" {
  project      = var.project_id
  display_name = "Provenant: dead letters waiting"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "extraction-requests-dlq-worker backlog"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"extraction-requests-dlq-worker\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.dead_letter_backlog_threshold
      duration        = "600s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  conditions {
    display_name = "message reached a terminal dead-letter topic"
    condition_threshold {
      filter          = "resource.type=\"pubsub_topic\" AND resource.label.topic_id=one_of(\"extraction-requests-dlq-failed\", \"seal-requests-dlq\", \"notifications-dlq\", \"key-rotation-requests-dlq\") AND metric.type=\"pubsub.googleapis.com/topic/send_message_operation_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  notification_channels = local.channels
  documentation {
    mime_type = "text/markdown"
    content   = "Dead letters are waiting. Terminal dead-letter topics keep messages 31 days: attach a subscription, seek to the alert's time and inspect. See docs/deploy.md (Operations)."
  }
}

# Seal lag: no completed seal pass for var.seal_lag_minutes (the scheduler runs one every few
# minutes), so new evidence is not being sealed or exported.
resource "google_monitoring_alert_policy" "seal_lag" {
  project      = var.project_id
  display_name = "Provenant: evidence sealing has stopped"
  combiner     = "OR"
  severity     = "CRITICAL"

  conditions {
    display_name = "no seal pass completed"
    condition_absent {
      filter   = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.seal_pass_completed.name}\""
      duration = "${var.seal_lag_minutes * 60}s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  notification_channels = local.channels
  documentation {
    mime_type = "text/markdown"
    content   = "No seal pass has completed recently. Check the sealer's logs, the provenant-seal scheduler job and the seal-requests-sealer subscription."
  }
}

resource "google_monitoring_alert_policy" "seal_failures" {
  project      = var.project_id
  display_name = "Provenant: a tenant's seal failed"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "seal_failed logged"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.seal_failed.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  notification_channels = local.channels
  documentation {
    mime_type = "text/markdown"
    content   = "The sealer could not seal a tenant's evidence. A pass resumes an interrupted seal; repeated failures need an operator (`npx provenant seal`, the sealer's logs)."
  }
}

# Break-glass: every grant under Privileged Access Manager, the project's way for an engineer
# to take a time-bound role. Alerts at once, on every grant.
resource "google_monitoring_alert_policy" "break_glass_grants" {
  project      = var.project_id
  display_name = "Provenant: break-glass access granted"
  combiner     = "OR"
  severity     = "WARNING"

  conditions {
    display_name = "Privileged Access Manager grant"
    condition_matched_log {
      filter = "protoPayload.serviceName=\"privilegedaccessmanager.googleapis.com\" AND protoPayload.methodName=~\"(CreateGrant|ApproveGrant)$\""
    }
  }

  alert_strategy {
    notification_rate_limit {
      period = "300s"
    }
    auto_close = "1800s"
  }

  notification_channels = local.channels
  documentation {
    mime_type = "text/markdown"
    content   = "Someone requested or was approved elevated access. Check the grant's justification and approver in the audit log bucket."
  }
}

# KMS errors: failed calls to Cloud KMS from the functions (a disabled or destroyed key, a
# revoked customer-managed key, a missing grant), and failed scheduled rotations.
resource "google_monitoring_alert_policy" "kms_errors" {
  project      = var.project_id
  display_name = "Provenant: Cloud KMS errors"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "Cloud KMS calls failing"
    condition_threshold {
      filter          = "resource.type=\"consumed_api\" AND resource.label.service=\"cloudkms.googleapis.com\" AND metric.type=\"serviceruntime.googleapis.com/api/request_count\" AND metric.label.response_code_class!=\"2xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.kms_error_threshold
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  conditions {
    display_name = "kek_rotation_failed logged"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.kek_rotation_failed.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  notification_channels = local.channels
  documentation {
    mime_type = "text/markdown"
    content   = "Cloud KMS refuses or fails calls. A tenant whose customer-managed key was revoked shows here first; so does a missing grant after a change."
  }
}
