# State lives in a GCS bucket created with the project (the one click-ops step besides the project
# itself; docs/deploy.md). Its name is given at init:
#   terraform init -backend-config="bucket=STATE_BUCKET"
terraform {
  backend "gcs" {
    prefix = "provenant/staging"
  }
}
