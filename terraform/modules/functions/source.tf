# The functions' code: one archive of what terraform/scripts/package-functions.sh staged (the
# compiled build/, package.json without scripts and devDependencies, the lockfile pruned to
# production dependencies), built into images by Cloud Build as a dedicated build account.

data "archive_file" "source" {
  type        = "zip"
  source_dir  = var.source_dir
  output_path = "${path.root}/.terraform/provenant-functions.zip"
}

resource "google_storage_bucket_object" "source" {
  # A new name per content: a changed archive redeploys every function, an unchanged one nothing.
  name   = "functions-${data.archive_file.source.output_md5}.zip"
  bucket = var.sources_bucket
  source = data.archive_file.source.output_path
}

resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "provenant-functions"
  format        = "DOCKER"
  description   = "Images Cloud Build makes of the functions."
}

resource "google_service_account" "builder" {
  project      = var.project_id
  account_id   = "provenant-fn-builder"
  display_name = "Provenant function builds"
  description  = "Cloud Build's identity when it builds the functions' images; runs nothing in production."
}

# Reason: the build reads the source archive; scoped to the sources bucket.
resource "google_storage_bucket_iam_member" "builder_sources" {
  bucket = var.sources_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.builder.email}"
}

# Reason: the build pushes the function images; scoped to their repository.
resource "google_artifact_registry_repository_iam_member" "builder_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.builder.email}"
}

# Reason: Cloud Build writes the build's log; log writing is granted on the project only.
resource "google_project_iam_member" "builder_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.builder.email}"
}

locals {
  build = {
    source_bucket     = var.sources_bucket
    source_object     = google_storage_bucket_object.source.name
    docker_repository = google_artifact_registry_repository.functions.id
    service_account   = google_service_account.builder.id
  }
}
