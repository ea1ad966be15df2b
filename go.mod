module github.com/hubsecrets/packer-plugin-jupyterhub

go 1.26.0

replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3

require github.com/hashicorp/packer-plugin-sdk v0.6.6

require github.com/hashicorp/go-version v1.6.0 // indirect
