# A JupyterHub disk image built locally with QEMU: boot an existing disk
# image, generalise it, bake the secrets directory with jupyterhub-secrets and
# power off. Every machine booted from the result makes its own cookie secret
# and proxy token on first boot, before the hub starts. See README.md here.
#
#   packer build \
#     -var base_image=/path/to/base.raw \
#     -var ssh_private_key_file=/path/to/id_ed25519 \
#     -var output_directory=/path/to/out \
#     examples/qemu
#
# Nothing here reaches beyond the build host: the guest's only network is
# QEMU's user network with restrict=on, and Packer's SSH comes in through one
# host forward bound to 127.0.0.1.
packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.0.9"
    }
    jupyterhub = {
      source  = "github.com/hubsecrets/jupyterhub"
      version = ">= 0.1.0"
    }
  }
}

variable "base_image" {
  type        = string
  description = "The disk image to start from (raw or qcow2, see base_format); it is copied, never changed."
}

variable "base_format" {
  type    = string
  default = "raw"
}

variable "output_directory" {
  type        = string
  description = "Where the image goes; must not exist yet."
}

variable "vm_name" {
  type    = string
  default = "jupyterhub.raw"
}

variable "format" {
  type        = string
  default     = "raw"
  description = "Output format: raw or qcow2."
}

variable "accelerator" {
  type        = string
  default     = "tcg"
  description = "tcg works everywhere (slow); kvm where /dev/kvm exists."
}

variable "cpus" {
  type    = number
  default = 1
}

variable "memory" {
  type    = number
  default = 1024
}

variable "kernel" {
  type        = string
  default     = ""
  description = "Boot this kernel directly (qemu -kernel), with initrd and kernel_append; leave empty for an image with its own bootloader."
}

variable "initrd" {
  type    = string
  default = ""
}

variable "kernel_append" {
  type    = string
  default = "root=/dev/vda rw console=ttyS0"
}

variable "serial_log" {
  type        = string
  default     = "/dev/null"
  description = "File that receives the guest's serial console."
}

variable "seed_files" {
  type        = list(string)
  default     = []
  description = "cloud-init NoCloud seed (meta-data, user-data) for the build VM, attached as a CD labelled cidata; needs xorriso or genisoimage on the build host."
}

variable "ssh_username" {
  type    = string
  default = "root"
}

variable "ssh_private_key_file" {
  type = string
}

variable "report_file" {
  type        = string
  default     = "jupyterhub-secrets-report.json"
  description = "Where the build host keeps the provisioner's verification report."
}

locals {
  # Packer's qemu builder replaces its default of each flag given here: the
  # network becomes user networking that cannot reach out (restrict=on) and
  # forwards only SSH from 127.0.0.1. The NIC keeps Packer's netdev id user.0.
  base_qemuargs = [
    ["-netdev", "user,id=user.0,restrict=on,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"],
    ["-device", "virtio-net-pci,netdev=user.0"],
    ["-serial", "file:${var.serial_log}"],
    ["-vnc", "none"],
    ["-display", "none"],
  ]
  kernel_qemuargs = var.kernel == "" ? [] : [
    ["-kernel", var.kernel],
    ["-initrd", var.initrd],
    ["-append", var.kernel_append],
  ]
  root_or_sudo = var.ssh_username == "root" ? "" : "sudo -n "
}

source "qemu" "hub" {
  disk_image   = true
  iso_url      = var.base_image
  iso_checksum = "none"
  # Always through qemu-img convert, which keeps the copy sparse (a plain
  # copy of a same-format image writes every zero block).
  qemu_img_args {
    convert = ["-f", var.base_format]
  }
  disk_interface   = "virtio"
  format           = var.format
  output_directory = var.output_directory
  vm_name          = var.vm_name
  # Keep the base image's size: growing the disk would not grow its file
  # system without a bootloader's help anyway.
  skip_resize_disk = true
  accelerator      = var.accelerator
  cpus             = var.cpus
  memory           = var.memory
  headless         = true
  # No boot_command to type, so no VNC server at all.
  disable_vnc = true
  qemuargs    = concat(local.base_qemuargs, local.kernel_qemuargs)

  cd_files = var.seed_files
  cd_label = "cidata"

  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  # Software emulation boots in minutes, not seconds.
  ssh_timeout      = "15m"
  shutdown_command = "${local.root_or_sudo}systemctl poweroff"
  shutdown_timeout = "5m"
}

build {
  sources = ["source.qemu.hub"]

  # Install JupyterHub here (without starting it: a hub that runs during the
  # build writes a cookie secret into the image). Then generalise: every
  # instance must get its own machine-id and run cloud-init afresh.
  provisioner "shell" {
    execute_command = "${local.root_or_sudo}sh -c '{{ .Vars }} {{ .Path }}'"
    inline = [
      "set -eu",
      "if command -v cloud-init >/dev/null; then cloud-init clean --logs; fi",
      "truncate -s 0 /etc/machine-id",
      "rm -f /var/lib/dbus/machine-id /var/lib/systemd/random-seed",
    ]
  }

  # Last: the secrets directory, dhparam.pem, the first-boot hook; then the
  # image is checked (no per-instance secret, hook enabled) or the build fails.
  provisioner "jupyterhub-secrets" {
    use_sudo      = var.ssh_username != "root"
    report_file   = var.report_file
    report_format = "json"
  }
}
