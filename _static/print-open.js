// Folded provenance tables (<details class="mech-folded">, helpers.book.show.Shown) open when a page is
// printed or saved as PDF, so that nothing folded is left out of paper.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details.mech-folded").forEach(function (d) { d.open = true; });
});
