"""Writers for `forge.export`: one record shape, rendered per format, written atomically."""
