/* Small form behaviours without inline script (the pages' CSP runs scripts from files only):
 * <form data-goto="/path/"> opens /path/<its first field's value> instead of submitting;
 * <select data-autosubmit> submits its form as soon as a choice is made. */
document.querySelectorAll("form[data-goto]").forEach(function (form) {
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    location.href = form.dataset.goto + encodeURIComponent(form.elements[0].value);
  });
});
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
