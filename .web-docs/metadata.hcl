# Packer integration metadata; the components' docs next to it are rendered
# from docs/ by .web-docs/scripts/render.sh.
integration {
  name        = "JupyterHub"
  description = "Bake a JupyterHub secrets directory, DH parameters and per-instance first-boot secrets into images, and verify the image."
  identifier  = "packer/hubsecrets/jupyterhub"
  docs {
    process_docs    = true
    readme_location = "./README.md"
    external_url    = "https://github.com/hubsecrets/packer-plugin-jupyterhub"
  }
  license {
    type = "MPL-2.0"
    url  = "https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/LICENSE"
  }
  component {
    type = "provisioner"
    name = "JupyterHub secrets"
    slug = "secrets"
  }
}
