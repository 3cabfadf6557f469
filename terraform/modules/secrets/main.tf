# Secret Manager holds every secret the functions read; Terraform creates the secrets, never their
# values (which would land in the state): docs/deploy.md adds each first version with gcloud.
# Accessor bindings are per function, in that function's file in modules/functions.
#
# No webhook key lives here: each webhook endpoint's signing secret is generated per endpoint and
# sealed under its tenant's keys in Firestore (webhooks/store.ts), so there is no platform-wide
# webhook secret to store.
locals {
  secrets = {
    "api-key-pepper"    = "API_KEY_PEPPER: HMAC pepper of stored API key hashes (32+ random characters)"
    "openai-api-key"    = "OPENAI_API_KEY: the OpenAI provider key"
    "anthropic-api-key" = "ANTHROPIC_API_KEY: the Anthropic provider key"
  }
}

resource "google_secret_manager_secret" "this" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = each.key
  labels    = { app = "provenant" }
  annotations = {
    purpose = each.value
  }

  replication {
    auto {}
  }
}
