from django.shortcuts import render


def index(request):
    return render(request, "shop/index.html", {"items": [("Mug", 12), ("Poster", 20)]})
