################################################################################
#
# tinkerbox
#
################################################################################

# Built from the checkout that holds this external tree. build-image.sh
# passes TINKERBOX_VERSION=$(git describe) on the make command line.
TINKERBOX_VERSION = custom
TINKERBOX_SITE = $(BR2_EXTERNAL_TINKERBOX_PATH)/..
TINKERBOX_SITE_METHOD = local
TINKERBOX_GOMOD = tinkerbox

# Pure Go: a static binary that needs no target libc and runs the same
# as the one "make arm" produces.
TINKERBOX_GO_ENV = CGO_ENABLED=0
TINKERBOX_LDFLAGS = -s -w -X main.version=$(TINKERBOX_VERSION)
TINKERBOX_BUILD_TARGETS = .

# The web dashboard listens on port 80 while tinkerbox runs as its own
# unprivileged user.
define TINKERBOX_PERMISSIONS
	/usr/bin/tinkerbox f 0755 0 0 - - - - -
	|xattr cap_net_bind_service+ep
endef

$(eval $(golang-package))
