# The tutorial "Create a Cookie Secret and Proxy Auth Token" done the way it
# is written, through Packer's own shell provisioner: every command as the
# tutorial gives it, the misspelled jupyterhub_cookie_secretl and the empty
# jupyterhub_cookie_secret included. `make e2e` (scripts/e2e/nspawn.sh) builds
# it against a fresh root and shows that `hubsecrets check` rejects the result,
# with the reasons; examples/local is the same job done with the provisioner.
#
#   eval "$(sudo HUBSECRETS_SSH_TARBALL=$(sudo scripts/testenv/hub-root.sh build) \
#     scripts/testenv/sshd-root.sh start)"
#   packer build -var ssh_port=$HUBSECRETS_SSH_PORT \
#     -var ssh_private_key_file=$HUBSECRETS_SSH_KEY examples/tutorial
#   sudo bin/hubsecrets check --root "$HUBSECRETS_SSH_ROOT"     # exit 1
#   sudo scripts/testenv/sshd-root.sh stop "$HUBSECRETS_SSH_STATE"
#
# The target needs sudo and openssl. As root (the default) every line runs as
# written; as another user the tutorial's `sudo openssl ... > file` fails,
# since the redirection is the unprivileged shell's.

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

source "null" "tutorial" {
  communicator         = "ssh"
  ssh_host             = var.ssh_host
  ssh_port             = var.ssh_port
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30s"
}

build {
  sources = ["source.null.tutorial"]

  provisioner "shell" {
    inline = [
      # Create a Cookie Secret
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
      # Create Proxy Auth Token
      "pwd",
      "sudo touch proxy_auth_token",
      "sudo chown :sudo proxy_auth_token",
      "sudo chmod g+rw proxy_auth_token",
      "sudo openssl rand -hex 32 > proxy_auth_token",
      "sudo chmod 600 proxy_auth_token",
      "ls -la",
      # Create dhparam.pem
      "pwd",
      "sudo touch dhparam.pem",
      "sudo chown :sudo dhparam.pem",
      "sudo chmod g+rw dhparam.pem",
      "sudo openssl dhparam -out /srv/jupyterhub/dhparam.pem 2048",
      "# wait a minute or two",
      "sudo chmod 600 dhparam.pem",
      "ls -la",
    ]
  }
}
