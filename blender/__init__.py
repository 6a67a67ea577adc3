"""blender stage."""
