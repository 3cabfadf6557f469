output "topics" {
  description = "Every topic's id (projects/P/topics/T) by name."
  value = merge(
    { for name, t in google_pubsub_topic.work : name => t.id },
    { for name, t in google_pubsub_topic.dead_letter : name => t.id },
  )
}
