# make bench-provision, side A: the jupyterhub-secrets provisioner with its
# defaults (ffdhe2048, the first-boot hook, the image check), on the null
# builder's SSH target. The shell-local steps around it write the build
# host's clock to stamp_dir, so scripts/bench-provision.sh times the step
# alone: Packer's start-up and the SSH connection come before mark0.
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

variable "stamp_dir" {
  type = string
}

source "null" "target" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = var.ssh_port
  ssh_username         = "root"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30s"
}

build {
  sources = ["source.null.target"]

  # mark0 and mark1 back to back: what one provisioner hand-off costs, the
  # floor under both sides' step times.
  provisioner "shell-local" {
    inline = ["date +%s.%N >'${var.stamp_dir}/mark0'"]
  }
  provisioner "shell-local" {
    inline = ["date +%s.%N >'${var.stamp_dir}/mark1'"]
  }

  provisioner "jupyterhub-secrets" {}

  provisioner "shell-local" {
    inline = ["date +%s.%N >'${var.stamp_dir}/mark2'"]
  }
}
