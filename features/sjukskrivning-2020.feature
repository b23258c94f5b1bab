# language: sv
Egenskap: Överenskommelsen om sjukskrivnings- och rehabiliteringsprocessen 2020
  Som handläggare på Försäkringskassan
  vill jag att verktyget prövar regionernas redovisningar mot villkoren
  och beräknar varje regions andel exakt,
  så att utfallet stämmer med rapporten 2021-03-29 och kan förklaras.

  Exempeldatan har alla 21 regioner med ja och en beskrivning på frågorna 1.1–2.2,
  inkomna i tid (senast 2020-12-11), och Försäkringskassans beslut: godkänd för villkor 1
  och 2 för alla regioner (rapporten 2021-03-29). Ett beslut går före svaren; utan beslut
  blir ett ja aldrig "uppfyllt". Scenarier om svaren drar därför tillbaka regionens beslut.

  Bakgrund:
    Givet överenskommelsen "agreements/sjukskrivning-2020.villkor"
    Och exempeldata från "examples/sjukskrivning-2020"

  # ---- Försäkringskassans rapport -------------------------------------------------

  Scenario: Alla 21 regioner uppfyller villkor 1 och 2
    När utfallet beräknas
    Så har alla regioner utfallet "uppfyllt" för villkor "1"
    Och har alla regioner utfallet "uppfyllt" för villkor "2"
    Och fördelas "100 000 000 kr" för villkor "1" med en avrundningsdifferens på högst "21 kr"
    Och fördelas "140 000 000 kr" för villkor "2" med en avrundningsdifferens på högst "21 kr"

  # Andel = pott × regionens befolkning / 10 319 473 (alla 21 regioner), avrundad per andel.
  # Summan avrundas en gång från den exakta summan av villkor 1 och 2.
  Scenariomall: Regionernas belopp stämmer med rapporten
    När utfallet beräknas
    Så får mottagare "<kod>" för villkor "<villkor>" "<belopp>"

    Exempel:
      | kod | villkor | belopp        |
      | 09  | 1       | 577 898 kr    |
      | 09  | 2       | 809 057 kr    |
      | 09  | summa   | 1 386 955 kr  |
      | 01  | 1       | 23 010 380 kr |
      | 01  | 2       | 32 214 533 kr |
      | 01  | summa   | 55 224 913 kr |

  # Försäkringskassan och Socialstyrelsen granskar, Försäkringskassan beslutar (fk, "Vad händer
  # sedan?"). Utan beslut ger regionernas egna ja inget belopp: en person avgör.
  Scenario: Utan Försäkringskassans beslut kräver regionernas ja bedömning
    Givet att granskningen inte har beslutat något
    När utfallet beräknas
    Så har alla regioner utfallet "bedömning krävs" för villkor "1"
    Och har alla regioner utfallet "bedömning krävs" för villkor "2"
    Och saknar mottagare "09" belopp för villkor "1"
    Och säger förklaringen för mottagare "09" och villkor "1" "svaren ensamma ger: uppfyllt"

  # Villkor 4 granskas av Försäkringskassan (fk, bilaga 1); exemplet har inga svar och inga
  # beslut om villkor 4. Ett ja med beskrivning väntar på granskningen.
  Scenario: Villkor 4 väntar på Försäkringskassans granskning
    Givet att region "09" svarar "ja" på fråga "4.1a"
    Och att kolumnen "4.1b" för "09" i filen "redovisning.csv" är "Webcert i alla vårdcentraler."
    Och att region "09" svarar "ja" på fråga "4.2a"
    Och att kolumnen "4.2b" för "09" i filen "redovisning.csv" är "Deltar i referensgruppen."
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "4" "bedömning krävs"
    Och saknar mottagare "09" belopp för villkor "4"
    Och är utfallet för mottagare "01" och villkor "4" "underlag saknas"

  # ---- Regionernas svar -----------------------------------------------------------

  # Utan Gotland delas 140 000 000 kr på 10 319 473 − 59 636 = 10 259 837 invånare:
  # Stockholm får 140 000 000 × 2 374 550 / 10 259 837 = 32 401 781,82 → 32 401 782 kr.
  Scenario: Gotland svarar nej på 2.2a och de andra 20 delar på villkor 2:s pott
    Givet att region "09" svarar "nej" på fråga "2.2a"
    Och att granskningen inte har beslutat något för region "09" och villkor "2"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "ej uppfyllt"
    Och får mottagare "09" för villkor "2" "0 kr"
    Och delar de övriga regionerna på hela potten för villkor "2"
    Och fördelas "140 000 000 kr" för villkor "2" med en avrundningsdifferens på högst "20 kr"
    Och får mottagare "01" för villkor "2" "32 401 782 kr"
    Och är utfallet för mottagare "09" och villkor "1" "uppfyllt"
    Och får mottagare "09" för villkor "1" "577 898 kr"
    Och säger förklaringen för mottagare "09" och villkor "2" "läste redovisning.2.2a = nej"

  Scenariomall: Ett nej på en a-fråga gör villkoret ej uppfyllt
    Givet att region "<kod>" svarar "nej" på fråga "<fråga>"
    Och att granskningen inte har beslutat något för region "<kod>" och villkor "<villkor>"
    När utfallet beräknas
    Så är utfallet för mottagare "<kod>" och villkor "<villkor>" "ej uppfyllt"
    Och får mottagare "<kod>" för villkor "<villkor>" "0 kr"
    Och delar de övriga regionerna på hela potten för villkor "<villkor>"

    Exempel:
      | kod | fråga | villkor |
      | 01  | 1.1a  | 1       |
      | 05  | 1.2a  | 1       |
      | 14  | 2.1a  | 2       |
      | 25  | 2.2a  | 2       |

  # Tomt är inte nej: frågan är obesvarad, så underlaget saknas och inget belopp bestäms.
  Scenariomall: En obesvarad a-fråga ger underlag saknas, inte ej uppfyllt
    Givet att region "<kod>" lämnar fråga "<fråga>" obesvarad
    Och att granskningen inte har beslutat något för region "<kod>" och villkor "<villkor>"
    När utfallet beräknas
    Så är utfallet för mottagare "<kod>" och villkor "<villkor>" "underlag saknas"
    Och saknar mottagare "<kod>" belopp för villkor "<villkor>"
    Och säger förklaringen för mottagare "<kod>" och villkor "<villkor>" "läste redovisning.<fråga> = tom"

    Exempel:
      | kod | fråga | villkor |
      | 09  | 2.2a  | 2       |
      | 09  | 1.1a  | 1       |
      | 12  | 1.2a  | 1       |
      | 23  | 2.1a  | 2       |

  # Mallen kräver en beskrivning efter ett ja (fk, bilaga 1).
  Scenariomall: Ja utan beskrivning ger underlag saknas
    Givet att region "09" lämnar beskrivningen "<fråga>" tom
    Och att granskningen inte har beslutat något för region "09" och villkor "<villkor>"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "<villkor>" "underlag saknas"
    Och saknar mottagare "09" belopp för villkor "<villkor>"

    Exempel:
      | fråga | villkor |
      | 1.1b  | 1       |
      | 2.2b  | 2       |

  Scenario: Ett nej avgör även när beskrivningen saknas
    Givet att region "09" svarar "nej" på fråga "2.2a"
    Och att region "09" lämnar beskrivningen "2.2b" tom
    Och att granskningen inte har beslutat något för region "09"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "ej uppfyllt"
    Och får mottagare "09" för villkor "2" "0 kr"

  # ---- Fristen 2020-12-11 ---------------------------------------------------------

  # Utan beslut är villkoret "bedömning krävs" i båda fallen; förklaringen visar fristen.
  Scenariomall: Redovisningen prövas mot fristen 2020-12-11
    Givet att redovisningen från region "09" kom in "<inkom>"
    Och att granskningen inte har beslutat något för region "09"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "1" "bedömning krävs"
    Och säger förklaringen för mottagare "09" och villkor "1" "<förklaring>"

    Exempel:
      | inkom      | förklaring                              |
      | 2020-12-11 | redovisning senast 2020-12-11: i tid    |
      | 2020-12-12 | 1 dagar efter fristen                   |
      | 2021-01-15 | 35 dagar efter fristen                  |

  Scenario: En sen redovisning kräver bedömning och ger inget belopp
    Givet att redovisningen från region "09" kom in "2020-12-20"
    Och att granskningen inte har beslutat något för region "09"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "bedömning krävs"
    Och saknar mottagare "09" belopp för villkor "2"
    Och säger förklaringen för mottagare "09" och villkor "2" "9 dagar efter fristen"

  # ---- Granskningens beslut -------------------------------------------------------

  Scenario: Beslutet underkänd går före svaren
    Givet att granskningen beslutat "underkänd" för region "09" och villkor "2"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "ej uppfyllt"
    Och får mottagare "09" för villkor "2" "0 kr"
    Och delar de övriga regionerna på hela potten för villkor "2"
    Och säger förklaringen för mottagare "09" och villkor "2":
      """
      granskningens beslut: underkänd: ej uppfyllt
      svaren ensamma ger: uppfyllt
      """

  Scenario: Beslutet godkänd går före ett nej
    Givet att region "09" svarar "nej" på fråga "2.2a"
    Och att granskningen beslutat "godkänd" för region "09" och villkor "2"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "uppfyllt"
    Och får mottagare "09" för villkor "2" "809 057 kr"

  # Svar på en begäran om komplettering ska komma inom 14 kalenderdagar: 2021-01-22 + 14.
  Scenario: En begärd komplettering ger underlag saknas
    Givet att granskningen beslutat "komplettering" för region "09" och villkor "2" med komplettering begärd "2021-01-22"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "underlag saknas"
    Och saknar mottagare "09" belopp för villkor "2"
    Och delar de övriga regionerna på hela potten för villkor "2"
    Och får mottagare "01" för villkor "2" "32 401 782 kr"
    Och säger förklaringen för mottagare "09" och villkor "2" "svar senast 2021-02-05"

  Scenario: Granskningen i exemplet: Gotland ska komplettera villkor 2
    Givet exempeldata från "examples/sjukskrivning-2020-granskning"
    När utfallet beräknas
    Så har alla regioner utfallet "uppfyllt" för villkor "1"
    Och är utfallet för mottagare "09" och villkor "2" "underlag saknas"
    Och får mottagare "09" för villkor "1" "577 898 kr"
    Och får mottagare "09" totalt "577 898 kr"
    Och får mottagare "01" för villkor "2" "32 401 782 kr"

  # ---- Villkor 3: kontakter med arbetsgivare/Arbetsförmedlingen -------------------

  Scenario: Villkor 3 utan ersättning per kontakt och utan underlag
    När utfallet beräknas
    Så har alla regioner utfallet "underlag saknas" för villkor "3"
    Och saknar mottagare "09" belopp för villkor "3"

  Scenario: Villkor 3 med underlag men utan ersättning per kontakt
    Givet filen "behandlingar.csv" med:
      | lanskod | psykisk_kvinnor | psykisk_män | smärta_kvinnor | smärta_män | kontakter | inkom      |
      | 09      | 120             | 80          | 40             | 30         | 500       | 2021-08-01 |
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "3" "underlag saknas"
    Och saknar mottagare "09" belopp för villkor "3"

  # 1 000 kr × kontakter: 20 000 000 + 500 000 + 15 000 000 = 35 500 000 kr, under taket 50 mnkr.
  Scenario: Villkor 3 under taket: ersättning gånger kontakter
    Givet parametern "ersättning_per_kontakt" är "1 000 kr"
    Och filen "behandlingar.csv" med:
      | lanskod | psykisk_kvinnor | psykisk_män | smärta_kvinnor | smärta_män | kontakter | inkom      |
      | 01      | 5000            | 3000        | 800            | 600        | 20000     | 2021-08-10 |
      | 09      | 120             | 80          | 40             | 30         | 500       | 2021-08-01 |
      | 12      | 3000            | 2000        | 500            | 400        | 15000     | 2021-08-15 |
    När utfallet beräknas
    Så får mottagare "01" för villkor "3" "20 000 000 kr"
    Och får mottagare "09" för villkor "3" "500 000 kr"
    Och får mottagare "12" för villkor "3" "15 000 000 kr"
    Och är utfallet för mottagare "03" och villkor "3" "underlag saknas"
    Och saknar mottagare "03" belopp för villkor "3"

  # 1 500 kr × kontakter: 30 000 000 + 750 000 + 22 500 000 = 53 250 000 kr, över taket.
  # Alla skalas med 50 000 000 / 53 250 000 = 200/213:
  #   01: 30 000 000 × 200/213 = 28 169 014,08 → 28 169 014 kr
  #   09:    750 000 × 200/213 =    704 225,35 →    704 225 kr
  #   12: 22 500 000 × 200/213 = 21 126 760,56 → 21 126 761 kr
  # Tillsammans exakt 50 000 000 kr; de avrundade beloppen summerar också till 50 000 000 kr.
  Scenario: Villkor 3 över taket: beloppen skalas ned i proportion
    Givet parametern "ersättning_per_kontakt" är "1 500 kr"
    Och filen "behandlingar.csv" med:
      | lanskod | psykisk_kvinnor | psykisk_män | smärta_kvinnor | smärta_män | kontakter | inkom      |
      | 01      | 5000            | 3000        | 800            | 600        | 20000     | 2021-08-10 |
      | 09      | 120             | 80          | 40             | 30         | 500       | 2021-08-01 |
      | 12      | 3000            | 2000        | 500            | 400        | 15000     | 2021-08-15 |
    När utfallet beräknas
    Så får mottagare "01" för villkor "3" "28 169 014 kr"
    Och får mottagare "09" för villkor "3" "704 225 kr"
    Och får mottagare "12" för villkor "3" "21 126 761 kr"
    Och fördelas "50 000 000 kr" för villkor "3" med en avrundningsdifferens på högst "0 kr"

  # ---- Versioner --------------------------------------------------------------------

  # Grundöverenskommelsens lydelse finns inte bland källorna: före tillägget (2020-06-16)
  # kan villkoren inte avgöras av verktyget.
  Scenario: Före tilläggsöverenskommelsen kräver villkoren bedömning
    Givet versionen som gäller "2020-06-01"
    När utfallet beräknas
    Så har alla regioner utfallet "bedömning krävs" för villkor "1"
    Och har alla regioner utfallet "bedömning krävs" för villkor "2"
    Och saknar mottagare "09" belopp för villkor "1"

  # ---- Felaktiga indata -------------------------------------------------------------

  # Radnumret är filens eget: rubrikraden är rad 1, Stockholm (01) rad 2, Gotland (09) rad 9, Norrbotten (25) rad 22.
  Scenariomall: Ett ogiltigt svar blir en felrad som pekar ut raden, och regionen beräknas inte
    Givet att region "<kod>" svarar "kanske" på fråga "<fråga>"
    När utfallet beräknas
    Så misslyckas beräkningen med felet "V204"
    Och felet nämner "rad <rad>"
    Och felet nämner "kanske"

    Exempel:
      | kod | fråga | rad |
      | 05  | 2.2a  | 5   |
      | 09  | 1.1a  | 9   |
      | 25  | 4.2a  | 22  |

  # ---- Egna indata --------------------------------------------------------------------

  # Tre regioner med 100 + 300 + 600 = 1 000 invånare: andelarna blir 10 %, 30 % och 60 %.
  Scenario: Potterna delas i förhållande till befolkningen
    Givet att granskningen inte har beslutat något
    Och att granskningen beslutat "godkänd" för region "01" och villkor "1"
    Och att granskningen beslutat "godkänd" för region "09" och villkor "1"
    Och att granskningen beslutat "godkänd" för region "12" och villkor "1"
    Och att granskningen beslutat "godkänd" för region "01" och villkor "2"
    Och att granskningen beslutat "godkänd" för region "09" och villkor "2"
    Och följande befolkning:
      | lanskod | region         | befolkning |
      | 01      | Region Stockholm | 100      |
      | 09      | Region Gotland   | 300      |
      | 12      | Region Skåne     | 600      |
    Och filen "redovisning.csv" med:
      | lanskod | 1.1a | 1.1b     | 1.2a | 1.2b     | 2.1a | 2.1b     | 2.2a | 2.2b     | 4.1a | 4.1b | 4.2a | 4.2b | inkom      |
      | 01      | ja   | Mått.    | ja   | Samarbete. | ja | Utbildning. | ja | Samordning. |  |  |  |  | 2020-12-01 |
      | 09      | ja   | Mått.    | ja   | Samarbete. | ja | Utbildning. | ja | Samordning. |  |  |  |  | 2020-12-01 |
      | 12      | ja   | Mått.    | ja   | Samarbete. | ja | Utbildning. | nej |            |  |  |  |  | 2020-12-01 |
    När utfallet beräknas
    Så får mottagare "01" för villkor "1" "10 000 000 kr"
    Och får mottagare "09" för villkor "1" "30 000 000 kr"
    Och får mottagare "12" för villkor "1" "60 000 000 kr"
    # Skåne svarar nej på 2.2a: 140 mnkr delas på 100 + 300 = 400 invånare.
    Och får mottagare "01" för villkor "2" "35 000 000 kr"
    Och får mottagare "09" för villkor "2" "105 000 000 kr"
    Och får mottagare "12" för villkor "2" "0 kr"
