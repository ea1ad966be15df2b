# make bench-provision, side B: the tutorial's commands, as written
# (/work/shared/seeds: "Create a Cookie Secret and Proxy Auth Token"), in an
# inline shell provisioner on the same kind of SSH target as side A. Its
# `openssl dhparam 2048` runs on the target, as the tutorial's reader runs it
# on the server. The shell-local steps around it write the build host's clock
# to stamp_dir, so scripts/bench-provision.sh times the step alone.
#
# The commands keep the tutorial's mistakes (the secret goes to
# jupyterhub_cookie_secretl, group sudo had read-write for a while): this
# side is timed, not judged. Nothing here prints a secret: `openssl rand`
# writes to files and `ls -la` shows only names, modes and sizes.
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

  provisioner "shell" {
    inline = [
      "cd /srv",
      "sudo mkdir jupyterhub",
      "cd jupyterhub",
      "pwd",
      "sudo touch jupyterhub_cookie_secret",
      "sudo chown :sudo jupyterhub_cookie_secret",
      "sudo chmod g+rw jupyterhub_cookie_secret",
      "sudo openssl rand -hex 32 > jupyterhub_cookie_secretl",
      "sudo chmod 600 jupyterhub_cookie_secret",
      "ls -la",
      "pwd",
      "sudo touch proxy_auth_token",
      "sudo chown :sudo proxy_auth_token",
      "sudo chmod g+rw proxy_auth_token",
      "sudo openssl rand -hex 32 > proxy_auth_token",
      "sudo chmod 600 proxy_auth_token",
      "ls -la",
      "pwd",
      "sudo touch dhparam.pem",
      "sudo chown :sudo dhparam.pem",
      "sudo chmod g+rw dhparam.pem",
      "sudo openssl dhparam -out /srv/jupyterhub/dhparam.pem 2048",
      "sudo chmod 600 dhparam.pem",
      "ls -la",
    ]
  }

  provisioner "shell-local" {
    inline = ["date +%s.%N >'${var.stamp_dir}/mark2'"]
  }
}
