/* kiln image SUBCOMMAND: the long forms of the image commands. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/registry_flags.h"

static const struct command image_commands[] = {
	{ "build", cmd_build, "Build an image from a Containerfile" },
	{ "exists", cmd_image_exists, "Check if an image exists in local storage" },
	{ "history", cmd_history, "Show the history of an image" },
	{ "import", cmd_import, "Import a tarball to create a filesystem image" },
	{ "inspect", cmd_image_inspect, "Display detailed information on one or more images" },
	{ "list", cmd_images, "List images" },
	{ "load", cmd_load, "Load image(s) from a tar archive or STDIN" },
	{ "ls", cmd_images, "List images" },
	{ "prune", cmd_image_prune, "Remove unused images" },
	{ "pull", cmd_pull, "Pull an image from a registry" },
	{ "push", cmd_push, "Push an image to a specified destination" },
	{ "rm", cmd_rmi, "Remove one or more images" },
	{ "save", cmd_save, "Save image(s) to an archive" },
	{ "sign", cmd_image_sign, "Sign an image in a registry (simple signing, GPG)" },
	{ "tag", cmd_tag, "Add an additional name to a local image" },
	{ "trust", cmd_image_trust, "Show or set the trust policy (policy.json)" },
	{ "tree", cmd_image_tree, "Show the layers of images and which images share them" },
	{ "untag", cmd_untag, "Remove a name from a local image" },
};

int cmd_image(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "image", "Manage images", image_commands, e);
}
