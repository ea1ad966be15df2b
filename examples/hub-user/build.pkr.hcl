# A hub that runs as its own user: the second example of
# docs/provisioners/secrets.mdx ("Example Usage") as a template you can build.
# Its provisioner "jupyterhub-secrets" block is the documentation's, verbatim
# (scripts/e2e/docs-example.sh checks it), and `make e2e` builds this file
# and boots the result with Debian's jupyterhub (docs/e2e.md).
#
# The machine is reached over SSH as a non-root user with passwordless sudo,
# as on cloud images, and must already have JupyterHub installed with its
# service kept from starting. Before the jupyterhub-secrets provisioner, a
# shell provisioner makes:
#   - the jupyterhub system user and group, which owner and group name (they
#     must exist when the provisioner runs);
#   - a drop-in that runs the hub's unit (Debian's jupyterhub.service) as that
#     user, in /var/lib/jupyterhub, which systemd gives the user
#     (StateDirectory): the hub's database and proxy pid file go there. The
#     secrets directory stays root's (root:jupyterhub, 0750): the first-boot
#     hook writes the secrets in it as root, owned by jupyterhub, 0600.
#
#   eval "$(sudo scripts/testenv/sshd-root.sh start)"   # user builder: passwordless sudo
#   packer build -var ssh_port=$HUBSECRETS_SSH_PORT \
#     -var ssh_private_key_file=$HUBSECRETS_SSH_KEY examples/hub-user
#   sudo scripts/testenv/sshd-root.sh stop "$HUBSECRETS_SSH_STATE"
#
# The SARIF report lands in reports/ under the directory Packer runs in.
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
  type        = string
  default     = "builder"
  description = "A non-root user with passwordless sudo (admin on Debian's cloud images)."
}

variable "ssh_private_key_file" {
  type = string
}

source "null" "hub" {
  communicator         = "ssh"
  ssh_host             = var.ssh_host
  ssh_port             = var.ssh_port
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30s"
}

build {
  sources = ["source.null.hub"]

  # The hub's own user, and its unit running as that user.
  provisioner "shell" {
    execute_command = "chmod +x '{{ .Path }}'; sudo -n env {{ .Vars }} '{{ .Path }}'"
    inline = [
      "getent group jupyterhub >/dev/null || groupadd --system jupyterhub",
      "id -u jupyterhub >/dev/null 2>&1 || useradd --system --gid jupyterhub --home-dir /var/lib/jupyterhub --no-create-home --shell /usr/sbin/nologin jupyterhub",
      "mkdir -p /etc/systemd/system/jupyterhub.service.d",
      "printf '%s\\n' '# The hub runs as its own user; its database goes to /var/lib/jupyterhub.' '[Service]' 'User=jupyterhub' 'Group=jupyterhub' 'StateDirectory=jupyterhub' 'WorkingDirectory=/var/lib/jupyterhub' >/etc/systemd/system/jupyterhub.service.d/20-user.conf",
    ]
  }

  provisioner "jupyterhub-secrets" {
    owner            = "jupyterhub"
    group            = "jupyterhub"
    directory_mode   = "0750"
    existing_secrets = "fail"
    report_file      = "reports/jupyterhub-secrets.sarif"
    report_format    = "sarif"
  }
}
