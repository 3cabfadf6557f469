# The topics the code and the local stack name (scripts/local/stack.ts `resources`), and one
# dead-letter topic per push subscription (the subscriptions live with their function in
# modules/functions, one file per function).
locals {
  # Topics a function consumes: name => what publishes to it.
  work_topics = {
    "extraction-requests" = "api (extraction/submit.ts): one reference-only message per extraction"
    "seal-requests"       = "Cloud Scheduler: one message per seal pass"
    "notifications"       = "api, extractWorker, deadLetterWorker: extraction outcomes for webhooks"
  }
  # Where a push subscription's undeliverable messages go. `extraction-requests-dlq` is itself
  # consumed (deadLetterWorker marks the extraction failed); the others are terminal.
  dead_letter_topics = {
    "extraction-requests-dlq"        = "extraction-requests-worker: extractions the worker could not finish"
    "extraction-requests-dlq-failed" = "extraction-requests-dlq-worker: dead letters the dead-letter worker could not record"
    "seal-requests-dlq"              = "seal-requests-sealer: seal passes that kept failing"
    "notifications-dlq"              = "notifications-notifier: notifications the notifier kept failing on"
  }
}

resource "google_pubsub_topic" "work" {
  for_each = local.work_topics
  project  = var.project_id
  name     = each.key
  labels   = { role = "work" }
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.dead_letter_topics
  project  = var.project_id
  name     = each.key
  labels   = { role = "dead-letter" }
  # A terminal dead-letter topic has no subscriber: the topic itself keeps what reaches it for
  # the maximum 31 days, so an operator can attach a subscription and seek back to replay it
  # (https://cloud.google.com/pubsub/docs/replay-overview#topic_message_retention).
  message_retention_duration = "2678400s"
}
