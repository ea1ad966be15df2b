# A JupyterHub AMI on Debian 12: the hub from Debian's packages, never started
# during the build, and the secrets directory baked by jupyterhub-secrets.
# Each instance launched from the AMI makes its own cookie secret and proxy
# token on first boot, before the hub starts.
#
#   packer init examples/amazon-ebs
#   packer build -var region=eu-west-1 examples/amazon-ebs
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
    jupyterhub = {
      source  = "github.com/hubsecrets/jupyterhub"
      version = ">= 0.1.0"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "ami_name_prefix" {
  type    = string
  default = "jupyterhub"
}

variable "report_dir" {
  type        = string
  default     = "."
  description = "Build-host directory for the verification report (SARIF, for code scanning)."
}

# The newest official Debian 12 AMI (owner: Debian).
source "amazon-ebs" "hub" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = "admin"
  ami_name      = "${var.ami_name_prefix}-{{timestamp}}"

  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["136693071363"]
    most_recent = true
  }

  tags = {
    Name    = "${var.ami_name_prefix}-{{timestamp}}"
    Purpose = "jupyterhub"
  }
}

build {
  sources = ["source.amazon-ebs.hub"]

  # Install the hub without starting it: a hub that runs during the build
  # writes a cookie secret into the image.
  provisioner "shell" {
    execute_command = "sudo -n sh -c '{{ .Vars }} {{ .Path }}'"
    inline = [
      "set -eu",
      "export DEBIAN_FRONTEND=noninteractive",
      "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d",
      "apt-get update",
      "apt-get install -y --no-install-recommends jupyterhub nginx",
      "rm -f /usr/sbin/policy-rc.d",
    ]
  }

  provisioner "jupyterhub-secrets" {
    # Debian's admin user has passwordless sudo.
    use_sudo = true
    # Fail rather than clean up: an image where the hub ran once must be
    # rebuilt from a clean base.
    existing_secrets = "fail"
    report_file      = "${var.report_dir}/jupyterhub-secrets.sarif"
    report_format    = "sarif"
  }

  # Instances must not share the build instance's machine-id.
  provisioner "shell" {
    inline = ["sudo -n truncate -s 0 /etc/machine-id"]
  }
}
