// The coding queue from the keyboard: 1 to 5 choose the sentiment, C confirms, S skips.
//
// Keys typed into a text field, or with Ctrl, Alt or Meta held, are left alone. After
// htmx swaps in the next comment, focus moves to its heading so that a screen reader
// reads it and the keys keep working. Every id in an item names its comment, so htmx
// finds nothing of the old item to carry over into the new one. Any answer that is not
// the next comment (a sign-in page after the session ended, a refused request) is left
// to the browser: the form is sent again as a plain POST.
document.addEventListener('keydown', function (event) {
  var target = event.target
  if (event.ctrlKey || event.altKey || event.metaKey) return
  if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' ||
      (target.tagName === 'INPUT' && ['text', 'search', 'email', 'password', 'number'].indexOf(target.type) !== -1))) return
  var form = document.querySelector('[data-coding-form]')
  if (!form) return
  var key = event.key.toLowerCase()
  if (key >= '1' && key <= '5') {
    var radio = form.querySelector('input[name="sentiment"][value="' + key + '"]')
    if (radio) {
      radio.checked = true
      event.preventDefault()
    }
  } else if (key === 'c') {
    event.preventDefault()
    form.querySelector('[data-coding-confirm]').click()
  } else if (key === 's') {
    event.preventDefault()
    form.querySelector('[data-coding-skip]').click()
  }
})

document.body.addEventListener('htmx:beforeSwap', function (event) {
  var xhr = event.detail.xhr
  var elt = event.detail.requestConfig && event.detail.requestConfig.elt
  if (xhr.status === 422) {
    event.detail.shouldSwap = true
    event.detail.isError = false
  } else if (xhr.status >= 300 || xhr.responseText.indexOf('id="coding-item"') === -1) {
    event.detail.shouldSwap = false
    if (elt && elt.tagName === 'FORM') {
      elt.submit()
    } else if (elt && elt.href) {
      window.location.href = elt.href
    }
  }
})

document.body.addEventListener('htmx:afterSwap', function () {
  var heading = document.querySelector('[data-coding-heading]')
  if (heading) heading.focus()
})
