"""The book's machinery: a page, its knobs, the build (executing the notebooks, the generated pages, the
overview), launching, Sphinx glue, the plan of the runs and the job runner."""
