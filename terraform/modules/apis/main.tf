# The Google APIs the deployment uses. Nothing else in this module: every other module depends on
# it (module.apis in platform/main.tf) so that no resource is created before its API answers.
locals {
  services = [
    "artifactregistry.googleapis.com", # function images
    "cloudbuild.googleapis.com",       # Cloud Functions gen2 builds
    "cloudfunctions.googleapis.com",   # api, ops, extractWorker, deadLetterWorker, notifier, sealer
    "cloudkms.googleapis.com",         # tenant KEKs, the evidence-sealing key, bucket CMEK
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com", # the sealer's (and key rotation's) schedule
    "firebase.googleapis.com",
    "firebaserules.googleapis.com", # the release of firestore.rules
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",  # OIDC tokens Pub/Sub mints for push subscriptions
    "identitytoolkit.googleapis.com", # Identity Platform (people, multi-tenancy)
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # gen2 functions run as Cloud Run services
    "secretmanager.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "enabled" {
  for_each = toset(local.services)
  project  = var.project_id
  service  = each.value
  # Turning an API off on destroy would break whatever else in the project uses it.
  disable_on_destroy = false
}
