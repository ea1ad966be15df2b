# Provisions a machine reachable over SSH as if it were an image: the
# provisioner's acceptance test points it at a throwaway Debian root served by
# scripts/testenv/sshd-root.sh on 127.0.0.1.
#
#   eval "$(sudo scripts/testenv/sshd-root.sh start)"
#   packer build -var ssh_port=$HUBSECRETS_SSH_PORT \
#     -var ssh_private_key_file=$HUBSECRETS_SSH_KEY examples/local
#   sudo scripts/testenv/sshd-root.sh stop "$HUBSECRETS_SSH_STATE"
packer {
  required_plugins {
    jupyterhub = {
      source  = "github.com/hubsecrets/jupyterhub"
      version = ">= 0.1.0"
    }
  }
}

variable "ssh_host" {
  type    = string
  default = "127.0.0.1"
}

variable "ssh_port" {
  type = number
}

variable "ssh_username" {
  type    = string
  default = "root"
}

variable "ssh_private_key_file" {
  type = string
}

variable "use_sudo" {
  type        = bool
  default     = false
  description = "Set for a non-root ssh_username with passwordless sudo."
}

variable "existing_secrets" {
  type    = string
  default = "remove"
}

variable "report_file" {
  type        = string
  default     = "report.json"
  description = "Where the build host keeps the verification report."
}

source "null" "local" {
  communicator         = "ssh"
  ssh_host             = var.ssh_host
  ssh_port             = var.ssh_port
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30s"
}

build {
  sources = ["source.null.local"]

  provisioner "jupyterhub-secrets" {
    use_sudo         = var.use_sudo
    existing_secrets = var.existing_secrets
    report_file      = var.report_file
    report_format    = "json"
  }
}
