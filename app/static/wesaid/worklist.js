// The worklist with htmx: marking an item handled replaces the item in place.
//
// A refused form (422: a note too long) is swapped in too, so its error shows where the
// staff member typed. Any other answer that is not the item (a sign-in page after the
// session ended, a refused or failed request) is left to the browser: the form is sent
// again without htmx, as a plain POST, and the browser shows what the server answers.
document.body.addEventListener('htmx:beforeSwap', function (event) {
  var xhr = event.detail.xhr
  var form = event.detail.requestConfig && event.detail.requestConfig.elt
  var path = xhr.responseURL ? new URL(xhr.responseURL).pathname : ''
  if (xhr.status === 422) {
    event.detail.shouldSwap = true
    event.detail.isError = false
  } else if (xhr.status >= 300 || path.indexOf('/staff/worklist/handle') === -1) {
    event.detail.shouldSwap = false
    if (form && form.tagName === 'FORM') {
      form.submit()
    }
  }
})
