"""The book's machinery: a page, its knobs, the build, the overview, launching, Sphinx glue, the job runner."""
