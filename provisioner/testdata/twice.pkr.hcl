# The provisioner twice in one build: the second run (DH parameters generated
# on the build host this time) finds no secret and passes. Used by the
# acceptance test.
packer {
  required_plugins {
    jupyterhub = {
      source  = "github.com/hubsecrets/jupyterhub"
      version = ">= 0.1.0"
    }
  }
}

variable "ssh_port" {
  type = number
}

variable "ssh_private_key_file" {
  type = string
}

source "null" "local" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = var.ssh_port
  ssh_username         = "builder"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30s"
}

build {
  sources = ["source.null.local"]

  provisioner "jupyterhub-secrets" {
    use_sudo = true
  }

  provisioner "jupyterhub-secrets" {
    use_sudo         = true
    dhparam_bits     = 2048
    existing_secrets = "fail"
  }
}
