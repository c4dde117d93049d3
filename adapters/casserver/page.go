package casserver

import (
	"html/template"
	"net/http"
)

// The pages a person may meet on the CAS routes, in French: never a code,
// an id or an English message.
type pageText struct{ Title, Message string }

var (
	pageUnregistered = pageText{
		Title:   "Service non reconnu",
		Message: "Ce service n'est pas enregistré auprès de l'ENT : la connexion unique ne peut pas vous y mener. Prévenez l'administrateur de votre établissement.",
	}
	pageUnavailable = pageText{
		Title:   "Connexion momentanément impossible",
		Message: "La connexion au service n'a pas pu être établie. Réessayez dans quelques instants.",
	}
	pageNotFound = pageText{
		Title:   "Page introuvable",
		Message: "Cette adresse ne mène à aucune page de l'ENT.",
	}
)

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – ENT</title></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a href="/">Retour à l'accueil</a></p>
</main>
</body>
</html>
`))

// page writes a French page with its status.
func (s *Server) page(w http.ResponseWriter, status int, p pageText) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, p)
}
