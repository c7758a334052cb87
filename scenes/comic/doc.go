// Package comic is the comic scene: a press of A composes a random wordless
// comic strip from an art pack (hand-drawn panel grids plus images with
// fitting and story metadata), archives it as a high-resolution PNG and
// prints it on the thermal printer.
//
// The package has three layers, usable on their own:
//
//   - Pack: LoadPack reads an art pack (manifest.json plus PNG files) from an
//     fs.FS, skipping bad items with one problem each;
//   - Compose: a Strip (theme, recurring character, grid, panels with roles,
//     images, placements, horizon, textures) chosen deterministically from a
//     seed, in the pack's master pixel coordinates;
//   - Render: the strip drawn at any width, with a footer.
//
// The Scene ties them to the buttons, the display, the store's archive index
// and print queue, and the printer.
package comic
