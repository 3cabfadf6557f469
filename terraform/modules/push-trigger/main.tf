# The trigger of one Pub/Sub-driven function: a push subscription that authenticates with an OIDC
# token minted for a push account of its own, dead-letters what keeps failing, and is the only
# identity allowed to invoke the function (which accepts internal traffic only). The functions
# framework turns the raw push posted to `/projects/P/topics/T` into the Pub/Sub CloudEvent the
# function registered for (as the local stack does).

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = var.push_account_id
  display_name = "Pub/Sub push to ${var.function_name}"
  description  = "Identity of the ${var.subscription_name} push subscription; may invoke ${var.function_name} and nothing else."
}

# Reason: the function's only invoker is its push account; scoped to this one service.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  project  = var.project_id
  location = var.region
  name     = var.function_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

# Reason: Pub/Sub's service agent mints the push account's OIDC tokens; scoped to this account.
resource "google_service_account_iam_member" "token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.pubsub_service_agent}"
}

resource "google_pubsub_subscription" "push" {
  project                    = var.project_id
  name                       = var.subscription_name
  topic                      = var.topic_id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"

  # Never expire for inactivity: a quiet week must not delete the subscription.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = var.minimum_backoff
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = var.dead_letter_topic_id
    max_delivery_attempts = var.max_delivery_attempts
  }

  push_config {
    push_endpoint = "${var.function_uri}/projects/${var.project_id}/topics/${var.topic_name}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = var.function_uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invoker]
}

# Reason: Pub/Sub forwards undeliverable messages to the dead-letter topic as its service agent;
# scoped to that topic.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = var.dead_letter_topic_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.pubsub_service_agent}"
}

# Reason: Pub/Sub's service agent acknowledges a message it dead-lettered on this subscription;
# scoped to this subscription.
resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.push.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.pubsub_service_agent}"
}
